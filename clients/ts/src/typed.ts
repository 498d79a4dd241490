// Compile-time checks: what the issue found `unknown` is now the document's schema, exactly (neither `unknown`
// nor `any`). Nothing here runs; `tsc --strict` failing is the test failing.
import type { components, paths } from "./askelephant.js";

type Schemas = components["schemas"];
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type IsAny<T> = 0 extends 1 & T ? true : false;
type IsUnknown<T> = unknown extends T ? (IsAny<T> extends true ? false : true) : false;
type Expect<T extends true> = T;
type Typed<T> = IsAny<T> extends true ? false : IsUnknown<T> extends true ? false : true;

type Ok<P extends keyof paths, M extends "get" | "post" | "put"> = paths[P][M] extends {
  responses: { 200: { content: { "application/json": infer B } } };
}
  ? B
  : never;
type Item<P extends keyof paths> = Ok<P, "get"> extends { data: (infer I)[] } ? I : never;
type CreateBody = paths["/v2/engagements"]["post"] extends {
  requestBody: { content: { "application/json": infer B } };
}
  ? B
  : never;

export type Checks = [
  // List `data` items on all five lists.
  Expect<Equal<Item<"/v2/engagements">, Schemas["Engagement"]>>,
  Expect<Equal<Item<"/v2/contacts">, Schemas["Contact"]>>,
  Expect<Equal<Item<"/v2/companies">, Schemas["Company"]>>,
  Expect<Equal<Item<"/v2/users">, Schemas["User"]>>,
  Expect<Equal<Item<"/v2/tags">, Schemas["Tag"]>>,
  Expect<Typed<Item<"/v2/engagements">>>,
  // The POST /v2/engagements body, its participants' items, user.emails' items.
  Expect<Equal<CreateBody, Schemas["EngagementCreateIn"]>>,
  Expect<Typed<CreateBody>>,
  Expect<Equal<NonNullable<CreateBody["participants"]>[number], Schemas["ParticipantIn"]>>,
  Expect<Typed<Schemas["ParticipantIn"]>>,
  Expect<Equal<Schemas["User"]["emails"][number], Schemas["EmailAddress"]>>,
  Expect<Typed<Schemas["EmailAddress"]>>,
  Expect<Equal<Schemas["EmailAddress"]["email"], string>>,
  // Optional in the request stays optional (a default does not make a field required), and closed sets are unions.
  Expect<Equal<CreateBody["run_workflows"], boolean | undefined>>,
  Expect<Equal<Schemas["ParticipantIn"]["is_owner"], boolean | undefined>>,
  Expect<Equal<CreateBody["type"], "CALL" | "MEETING">>,
  Expect<Equal<Schemas["Engagement"]["processing_status"], "PENDING" | "PROCESSING" | "COMPLETED" | "FAILED">>,
];

// A field that does not exist is an error wherever it is read (these lines compile only because they fail).
declare const engagement: Item<"/v2/engagements">;
declare const email: Schemas["User"]["emails"][number];
// @ts-expect-error: an Engagement has no `titel`
engagement.titel;
// @ts-expect-error: an email entry has no `address`
email.address;
