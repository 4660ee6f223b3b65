# mockserver in a container: `docker build -t mockserver .` then
# `docker run -p 8000:8000 mockserver` (add scenario files with a volume and their paths:
# `docker run -p 8000:8000 -v $PWD/scenarios:/scenarios mockserver mockserver serve /scenarios --host 0.0.0.0`).
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
RUN pip install --no-cache-dir .

EXPOSE 8000
# 0.0.0.0 inside the container, so the published port reaches it (outside Docker, serve binds
# 127.0.0.1 unless told otherwise).
CMD ["mockserver", "serve", "--host", "0.0.0.0"]
