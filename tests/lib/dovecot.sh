# dovecot.sh - sourced after common.sh: a real Dovecot LMTP server for tests.
#
#   dovecot_start USER...   Dovecot as root from $T/dovecot.conf (base_dir, state and
#                           mail under $T), LMTP on a free 127.0.0.1 port ($LMTP_PORT),
#                           passwd-file users USER... with Maildirs in $T/mail/USER;
#                           stopped at exit.  Unknown users get 550 5.1.1.  LMTP also
#                           on the unix socket $T/run/lmtp-test.  With DOVECOT_CERT
#                           and DOVECOT_KEY (PEM files) set: STARTTLS with them.
#   maildir_count USER      messages in USER's Maildir/new
#   same_as_maildir SRC F   F minus Dovecot's Return-Path/Delivered-To/Received equals SRC
#                           (CRLF compared as LF)
dovecot_start() {
	command -v dovecot >/dev/null || fail "no dovecot"
	chmod 711 "$T"
	mkdir -p "$T/run" "$T/state" && mkdir -m 777 -p "$T/mail"
	LMTP_PORT=$(free_port)
	: > "$T/users"
	for u in "$@"; do
		printf '%s:{PLAIN}x:65534:65534::%s/mail/%s\n' "$u" "$T" "$u" >> "$T/users"
	done
	_ssl="ssl = no"
	[ -z "${DOVECOT_CERT:-}" ] ||
		_ssl=$(printf 'ssl = yes\nssl_cert = <%s\nssl_key = <%s' "$DOVECOT_CERT" "$DOVECOT_KEY")
	cat > "$T/dovecot.conf" <<EOF2
base_dir = $T/run
state_dir = $T/state
log_path = $T/dovecot.log
protocols = lmtp
listen = 127.0.0.1
$_ssl
auth_username_format = %Ln
first_valid_uid = 100
mail_location = maildir:$T/mail/%n
passdb {
  driver = passwd-file
  args = $T/users
}
userdb {
  driver = passwd-file
  args = $T/users
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
  unix_listener lmtp-test {
    mode = 0666
  }
}
EOF2
	dovecot -c "$T/dovecot.conf" || fail "dovecot did not start: $(tail -5 "$T/dovecot.log")"
	cleanup_add "doveadm -c $T/dovecot.conf stop"
	wait_port "$LMTP_PORT" 20 || fail "dovecot LMTP not listening: $(tail -5 "$T/dovecot.log")"
}

maildir_count() { ls "$T/mail/$1/new" 2>/dev/null | wc -l; }

same_as_maildir() {
	python3 - "$1" "$2" <<'PY'
import re, sys
src = open(sys.argv[1], 'rb').read().replace(b'\r\n', b'\n')
if not src.endswith(b'\n'):
    src += b'\n'
got = open(sys.argv[2], 'rb').read().replace(b'\r\n', b'\n')
while True:
    m = re.match(rb'(Return-Path|Delivered-To|Received):[^\n]*\n([ \t][^\n]*\n)*', got)
    if not m:
        break
    got = got[m.end():]
sys.exit(0 if got == src else 1)
PY
}
