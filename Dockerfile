# Mailroom container image: build with the SDK, run on the ASP.NET runtime as a non-root user.
#   docker build -t mailroom .
#   docker run -p 5080:5080 -p 2525:2525 -v mailroom-data:/data mailroom
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props Mailroom.slnx ./
COPY src/ src/
RUN dotnet publish src/Mailroom/Mailroom.csproj -c Release -o /app --no-self-contained -p:UseAppHost=true

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl only for the health check.
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mailroom && useradd --system --uid 10001 --gid mailroom --home-dir /data --shell /usr/sbin/nologin mailroom \
 && mkdir -p /data && chown mailroom:mailroom /data
WORKDIR /app
COPY --from=build /app ./
USER mailroom
# The data folder: SQLite store, key ring, master key (better: MAILROOM_MASTER_KEY_FILE on a secret mount), certificate.
VOLUME ["/data"]
ENV MAILROOM_DATA=/data \
    MAILROOM_HTTP=http://0.0.0.0:5080 \
    MAILROOM_SMTP=0.0.0.0:2525 \
    DOTNET_gcServer=0
# 5080 HTTP API, 2525 SMTP submission, 2500 MX listener (when MAILROOM_MX=0.0.0.0:2500), 9464 metrics (MAILROOM_METRICS=0.0.0.0:9464)
EXPOSE 5080 2525
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD curl -fsS http://127.0.0.1:5080/health || exit 1
# SIGTERM (docker stop) is a graceful stop; give it more than the host's 30 s shutdown timeout: docker stop -t 40.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/mailroom", "serve"]
