# fake-askelephant as a CI service container: `docker build -t fake-askelephant .`
# Configure with FAKE_ASKELEPHANT_* env vars (see `fake-askelephant serve --help`); the image runs the same
# console script the test suite runs (tests/reliability/test_container.py; the built image itself:
# tests/packaging/test_docker_image.py). Any Python 3.11+ image with venv works as the base.
ARG PYTHON_IMAGE=python:3.12-slim

# Build stage: the wheel, installed into a venv that then loses its installers (pip, setuptools).
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/fake-askelephant \
 && /opt/fake-askelephant/bin/pip install /wheels/*.whl \
 && /opt/fake-askelephant/bin/pip uninstall --yes pip setuptools

# Final stage: the base image plus that venv and nothing else (no source tree, no wheel, no build tools).
FROM ${PYTHON_IMAGE}
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
