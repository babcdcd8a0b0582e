#!/usr/bin/env bash
# SMTP submission throughput: Mailroom against Postfix, in one run, one table (see README.md beside this file).
#
#   bench/smtp/run.sh                      # 10 and 50 sessions, 3000 messages of 5 KB per measurement, 3 rounds
#   SESSIONS="10 50" MESSAGES=3000 SIZE=5120 ROUNDS=3 bench/smtp/run.sh
#
# Needs: the .NET SDK, Debian's postfix (for smtp-source and the reference server), python3. Run as root (Postfix's
# master must be). Everything listens on 127.0.0.1 only and lives in a fresh folder under /var/tmp (on disk, so
# fsync costs what it costs), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
SESSIONS=${SESSIONS:-"10 50"}
MESSAGES=${MESSAGES:-3000}
SIZE=${SIZE:-5120}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-6000}

command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix (see README.md)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root: Postfix's master process needs it" >&2; exit 2; }

work=$(mktemp -d /var/tmp/mailroom-smtp-bench.XXXXXX)
chmod 755 "$work" # Postfix daemons run as the postfix user
mailroom_pid=""
cleanup() {
  [ -n "$mailroom_pid" ] && kill "$mailroom_pid" 2>/dev/null && wait "$mailroom_pid" 2>/dev/null || true
  [ -f "$work/postfix/etc/main.cf" ] && postfix -c "$work/postfix/etc" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

echo "bench: building (Release)" >&2
dotnet build -c Release src/Mailroom -v q -nologo 2>&1 | grep -E " error |rror\(s\)" >&2 || true
dotnet build -c Release bench/smtp/SmtpLoad -v q -nologo 2>&1 | grep -E " error |rror\(s\)" >&2 || true
mailroom="$root/src/Mailroom/bin/Release/net10.0/mailroom"
load="dotnet $root/bench/smtp/SmtpLoad/bin/Release/net10.0/SmtpLoad.dll"

# ---- Mailroom: SQLite in the work folder, roles api and smtp (acceptance only: nothing is delivered) ----
http_port=$(free_port); mailroom_port=$(free_port)
account=$("$mailroom" accounts create --data "$work/mailroom" --name Bench --email ops@bench.test --json 2>/dev/null)
account_token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["AccountToken"])' "$account")

start_mailroom() { # env assignments...
  [ -n "$mailroom_pid" ] && { kill "$mailroom_pid"; wait "$mailroom_pid" 2>/dev/null || true; }
  env "$@" "$mailroom" serve --data "$work/mailroom" --http "http://127.0.0.1:$http_port" --smtp "127.0.0.1:$mailroom_port" \
    --roles api,smtp --smtp-allow-plain-auth --platform-domain bench.test >>"$work/mailroom.log" 2>&1 &
  mailroom_pid=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$http_port/health" >/dev/null && return 0; sleep 0.5; done
  echo "Mailroom did not start; log:" >&2; tail -20 "$work/mailroom.log" >&2; exit 1
}
start_mailroom
server_token=$(curl -sf -X POST "http://127.0.0.1:$http_port/servers" -H "Accept: application/json" -H "Content-Type: application/json" \
  -H "X-Postmark-Account-Token: $account_token" -d '{"Name": "Bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["ApiTokens"][0])')
# smtp-source cannot AUTH: for this run only, loopback clients without AUTH send as the bench server (off by default).
start_mailroom MAILROOM_SMTP_LOOPBACK_TOKEN="$server_token"

# ---- Postfix: a throwaway instance on its own port and queue, delivering to discard(8) ----
postfix_port=$(free_port)
pf="$work/postfix"
mkdir -p "$pf/etc" "$pf/spool" "$pf/lib"
chown postfix "$pf/lib"
cat >"$pf/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/lib
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.localhost
mydomain = bench.localhost
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = bench.test
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
default_transport = discard:bench
relay_transport = discard:bench
local_transport = discard:bench
# Postfix's own back-pressure (a pause per message when delivery lags) off: measure how fast it accepts.
in_flow_delay = 0
message_size_limit = 10485760
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file = $pf/maillog
EOF
cat >"$pf/etc/master.cf" <<EOF
127.0.0.1:$postfix_port inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
postfix -c "$pf/etc" check >/dev/null 2>&1 || true
postfix -c "$pf/etc" start >"$work/postfix-start.log" 2>&1 || { echo "Postfix did not start:" >&2; cat "$work/postfix-start.log" >&2; exit 1; }
for _ in $(seq 1 40); do (exec 3<>"/dev/tcp/127.0.0.1/$postfix_port") 2>/dev/null && break; sleep 0.25; done

# ---- measurements ----
# smtp-source: Postfix's own load tool (C, no PIPELINING), one connection per session kept open (-d).
# Each client leaves its own CPU per message (microseconds, user + system) in $work/client_cpu.
smtp_source() { # port sessions count
  local start end cpu_s
  start=$(date +%s.%N)
  cpu_s=$( { TIMEFORMAT='%3U %3S'; time smtp-source -s "$2" -m "$3" -l "$SIZE" -d -f load@bench.test -t sink@bench.test "127.0.0.1:$1" >/dev/null; } 2>&1 )
  end=$(date +%s.%N)
  echo "$cpu_s" | awk -v n="$3" '{printf "%d\n", ($1 + $2) * 1000000 / n}' >"$work/client_cpu"
  python3 -c "print(round($3/($end-$start)))"
}
# MailKit (bench/smtp/SmtpLoad): pipelining, TCP_NODELAY on the client; AUTH PLAIN at Mailroom.
mailkit() { # port sessions count [auth args]
  local port=$1 sessions=$2 count=$3; shift 3
  local out
  out=$($load --port "$port" --sessions "$sessions" --messages "$count" --size "$SIZE" "$@")
  echo "$out" | sed -n 's/.*client_cpu_us_per_msg=\([0-9]*\).*/\1/p' >"$work/client_cpu"
  echo "$out" | sed -n 's/.*rate=\([0-9]*\).*/\1/p'
}

# CPU time (user + system, all threads) Mailroom has used, in clock ticks. CPU per message is the figure that load
# on the shared cores disturbs least: rates swing with it, CPU per message much less.
mailroom_ticks() { awk '{print $14 + $15}' "/proc/$mailroom_pid/stat"; }
ticks_per_s=$(getconf CLK_TCK)
declare -A cpu
# One measurement: server (mr/pf), client (ss/mk), sessions. Records the rate, the client's CPU per message and,
# at Mailroom, Mailroom's CPU per message (µs).
measure() { # server client sessions
  local server=$1 client=$2 s=$3 port before after rate
  port=$([ "$server" = mr ] && echo "$mailroom_port" || echo "$postfix_port")
  before=$(mailroom_ticks)
  if [ "$client" = ss ]; then rate=$(smtp_source "$port" "$s" "$MESSAGES")
  elif [ "$server" = mr ]; then rate=$(mailkit "$port" "$s" "$MESSAGES" --user "$server_token")
  else rate=$(mailkit "$port" "$s" "$MESSAGES"); fi
  after=$(mailroom_ticks)
  results[${client}_${server}_$s]+="$rate "
  cpu[client_${client}_${server}_$s]+="$(cat "$work/client_cpu") "
  [ "$server" = mr ] && cpu[${client}_$s]+="$(( (after - before) * 1000000 / ticks_per_s / MESSAGES )) "
  return 0
}

# Long enough for the runtime to finish tiering up: with a shorter warm-up, perf showed the tiered-compilation
# thread (JIT) at 47% of Mailroom's CPU during a measurement; after ~24,000 messages, 3.5%. Each client and session
# count once, so every measured path is warm; on a machine busy with other work tiering takes longer still.
echo "bench: warming up (JIT, caches)" >&2
for s in $SESSIONS; do
  mailkit "$mailroom_port" "$s" "$WARMUP" --user "$server_token" >/dev/null
  smtp_source "$mailroom_port" "$s" "$WARMUP" >/dev/null
  mailkit "$postfix_port" "$s" 1000 >/dev/null
  smtp_source "$postfix_port" "$s" 1000 >/dev/null
done

declare -A results
for s in $SESSIONS; do
  for _ in $(seq 1 "$ROUNDS"); do
    # Interleaved, so both servers meet the same background load.
    measure mr ss "$s"
    measure pf ss "$s"
    measure mr mk "$s"
    measure pf mk "$s"
  done
done

# One connection, MailKit, with and without TCP_NODELAY on Mailroom's accepted sockets.
one=$((MESSAGES / 5))
nodelay_on=$(for _ in $(seq 1 "$ROUNDS"); do mailkit "$mailroom_port" 1 "$one" --user "$server_token"; done | tr '\n' ' ' | median)
start_mailroom MAILROOM_SMTP_TCP_NODELAY=false MAILROOM_SMTP_LOOPBACK_TOKEN="$server_token"
mailkit "$mailroom_port" 1 200 --user "$server_token" >/dev/null
nodelay_off=$(for _ in $(seq 1 "$ROUNDS"); do mailkit "$mailroom_port" 1 "$((one / 10))" --user "$server_token"; done | tr '\n' ' ' | median)

stored=$(curl -sf "http://127.0.0.1:$http_port/messages/outbound?count=1&offset=0" -H "Accept: application/json" \
  -H "X-Postmark-Server-Token: $server_token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["TotalCount"])')

echo
echo "SMTP submission, messages/s (median of $ROUNDS; $MESSAGES messages of $SIZE bytes each; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "Mailroom: SQLite (WAL, synchronous=FULL), 250 after the group commit. Postfix: queue file fsync'd by cleanup before 250, delivered to discard."
echo "CPU per message in µs (medians): Mailroom's process; the client's own, against Mailroom / against Postfix."
printf '%-26s %-9s %10s %10s %8s %13s %17s\n' "client" "sessions" "Mailroom" "Postfix" "ratio" "Mailroom CPU" "client CPU mr/pf"
for s in $SESSIONS; do
  for c in ss mk; do
    mr=$(echo "${results[${c}_mr_$s]}" | median); pfr=$(echo "${results[${c}_pf_$s]}" | median)
    name=$([ "$c" = ss ] && echo "smtp-source" || echo "MailKit (pipelining)")
    printf '%-26s %-9s %10s %10s %7.1fx %13s %17s\n' "$name" "$s" "$mr" "$pfr" "$(python3 -c "print($mr/max($pfr,1))")" \
      "$(echo "${cpu[${c}_$s]}" | median)" "$(echo "${cpu[client_${c}_mr_$s]}" | median)/$(echo "${cpu[client_${c}_pf_$s]}" | median)"
  done
done
echo
echo "One MailKit connection to Mailroom: TCP_NODELAY on $nodelay_on msg/s, off $nodelay_off msg/s."
echo "Messages stored by Mailroom in this run: $stored."
