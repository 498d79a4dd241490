// Must NOT compile: `extrnal_id` is misspelled. With an untyped body this compiled and failed at run time
// with a 422; typed from the document, tsc refuses it (tests/clients/test_typescript_client.py asserts so).
import createClient from "openapi-fetch";
import type { paths } from "../src/askelephant.js";

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:8787/api" });
await client.POST("/v2/engagements", {
  body: {
    type: "CALL",
    title: "Sales call with Jane Doe",
    source_system: "my-dialer",
    extrnal_id: "call-1",
    media_url: "https://recordings.example.com/call-1.mp3",
  },
});
