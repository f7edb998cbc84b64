# What the nginx tests share; sourced by run.sh and cluster.sh.

# write_nginx_conf WORK: WORK/nginx.conf, an nginx that keeps its pid, logs and temporary files
# under WORK and serves the block the test wrote into WORK/stelling.conf.
write_nginx_conf() {
  local work=$1
  mkdir -p "$work/logs" "$work/tmp"
  cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
worker_rlimit_nofile 16384;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    include $work/stelling.conf;
}
CONF
}
