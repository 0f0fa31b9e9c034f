# A static open-notebook in an empty image. Build: docker build -t open-notebook .
# Run: docker run -p 5055:5055 -p 8502:8502 -v notebook:/app/data \
#        -e OPEN_NOTEBOOK_PASSWORD_FILE=/run/secrets/pw open-notebook
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools \
    && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --target x86_64-unknown-linux-musl

FROM scratch
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/open-notebook /open-notebook
VOLUME /app/data
EXPOSE 5055 8502
ENTRYPOINT ["/open-notebook", "serve", "--data-dir", "/app/data", "--host", "0.0.0.0"]
