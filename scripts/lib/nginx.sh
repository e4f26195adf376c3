# shellcheck shell=bash
# nginx in front of a test server, from the shipped deploy/nginx/govoffice.conf: nginx_start /
# nginx_stop. Needs scripts/lib/common.sh sourced first, Debian's `nginx` and openssl.
#
# nginx_start DIR APP_PORT: a throwaway self-signed certificate for 127.0.0.1/localhost, the
# shipped site file templated for DIR (certificate, logs, temp folders) and free loopback ports,
# and `nginx -g 'daemon off;'` as a background process of this shell (no system service, no
# /etc/nginx state written). Sets:
#   NGINX_PORT        the HTTPS port (HTTP/2 and HTTP/1.1)
#   NGINX_PLAIN_PORT  the plain-HTTP port (redirects to HTTPS)
#   NGINX_PID         the master process
#   NGINX_DIR         DIR (logs in DIR/logs/govoffice.{access,error}.log)

NGINX_PORT=
NGINX_PLAIN_PORT=
NGINX_PID=
NGINX_DIR=

nginx_start() {
    local dir=$1 app_port=$2 repo conf attempt
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    NGINX_DIR=$dir
    mkdir -p "$dir/logs" "$dir/temp" "$dir/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/tls/privkey.pem" -out "$dir/tls/fullchain.pem" >"$dir/logs/openssl.log" 2>&1 || {
        warn "openssl could not make the test certificate"; cat "$dir/logs/openssl.log" >&2; return 1; }
    for attempt in 1 2 3; do
        NGINX_PORT=$(free_port)
        NGINX_PLAIN_PORT=$(free_port)
        # The site file as shipped, with only addresses and paths replaced: what is tested is
        # what an IT centre installs.
        sed -e "s#server 127.0.0.1:8080;#server 127.0.0.1:$app_port;#" \
            -e "s#listen 443 ssl http2;#listen 127.0.0.1:$NGINX_PORT ssl http2;#" \
            -e "s#listen 80;#listen 127.0.0.1:$NGINX_PLAIN_PORT;#" \
            -e '/listen \[::\]/d' \
            -e "s#/etc/ssl/govoffice/#$dir/tls/#g" \
            -e "s#/var/log/nginx/#$dir/logs/#g" \
            "$repo/deploy/nginx/govoffice.conf" >"$dir/govoffice.conf"
        conf=$dir/nginx.conf
        cat >"$conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log notice;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    include $dir/govoffice.conf;
}
CONF
        # -p: the prefix, so nothing is read from or written to nginx's compiled-in paths
        # (except the mime types). As root, `user root` keeps the workers able to read the run's
        # folder (nginx would switch them to nobody).
        if ((EUID == 0)); then sed -i "1i user root;" "$conf"; fi
        nginx -p "$dir" -c "$conf" -t >"$dir/logs/nginx-t.log" 2>&1 || {
            warn "nginx -t refused the templated config"; cat "$dir/logs/nginx-t.log" >&2; return 1; }
        bg_start "$dir/logs/nginx.out" nginx -p "$dir" -c "$conf" -g 'daemon off;'
        NGINX_PID=$BG_PID
        local i
        # Up when it answers anything over TLS (a 503 while the server behind it is not started yet).
        for ((i = 0; i < 100; i++)); do
            curl -sk -o /dev/null --max-time 1 "https://127.0.0.1:$NGINX_PORT/" 2>/dev/null && return 0
            kill -0 "$NGINX_PID" 2>/dev/null || break
            sleep 0.05
        done
        warn "nginx did not come up on port $NGINX_PORT (attempt $attempt)"
        cat "$dir/logs/nginx.out" "$dir/logs/error.log" >&2 2>/dev/null || true
        bg_stop "$NGINX_PID"
    done
    return 1
}

nginx_stop() {
    [[ -n "$NGINX_PID" ]] && bg_stop "$NGINX_PID"
    NGINX_PID=
}
