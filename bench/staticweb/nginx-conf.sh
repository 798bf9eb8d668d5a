# Sourced by the StaticWeb benchmarks: the nginx they measure against, configured alike in each.
# nginx_conf WORK PORT ROOT: writes WORK/nginx.conf (pid, error log and temporary files under WORK) for one server on
# 127.0.0.1:PORT serving ROOT: one worker per core, sendfile, no access log, keep-alive without a request cap,
# an open-file cache, gzip on the fly for text (nginx-light has no brotli).
nginx_conf() {
  local work=$1 port=$2 root=$3
  mkdir -p "$work/nginx-tmp"
  cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  gzip on; gzip_types text/plain text/css application/javascript application/json; gzip_min_length 256;
  client_body_temp_path $work/nginx-tmp; proxy_temp_path $work/nginx-tmp; fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp; scgi_temp_path $work/nginx-tmp;
  server { listen 127.0.0.1:$port; root $root; }
}
CONF
}
