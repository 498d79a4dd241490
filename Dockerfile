# fake-askelephant as a CI service container: `docker build -t fake-askelephant .`
# Configure with FAKE_ASKELEPHANT_* env vars (see `fake-askelephant serve --help`); the image runs the same
# console script the test suite runs (tests/reliability/test_container.py).
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN python -m venv /opt/fake-askelephant && /opt/fake-askelephant/bin/pip install .

FROM python:3.12-slim
COPY --from=build /opt/fake-askelephant /opt/fake-askelephant
RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home elephant
ENV PATH=/opt/fake-askelephant/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FAKE_ASKELEPHANT_HOST=0.0.0.0 \
    FAKE_ASKELEPHANT_PORT=8787
USER 10001:10001
WORKDIR /data
EXPOSE 8787
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 CMD ["fake-askelephant", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["fake-askelephant"]
CMD ["serve"]
