# postfix.sh - a private Postfix instance in a directory of its own, beside the
# system's: sourced by tests/e2e (the real primary of ingest_verify.sh) and by
# bench/lib.sh (the backup MX it compares against).  Starting one needs root.
#
#   postfix_main_cf DIR   DIR/etc/main.cf of an instance under DIR: its queue in
#                         DIR/spool, its data in DIR/data (both made, data owned
#                         by postfix), listening on 127.0.0.1 (IPv4) only, logging
#                         to DIR/maillog; then the lines read from stdin (what this
#                         instance is for).  master.cf is the caller's.
postfix_main_cf() {
	mkdir -p "$1/etc" "$1/spool" "$1/data"
	chown postfix "$1/data"
	{
		printf 'compatibility_level = 3.6\nqueue_directory = %s/spool\n' "$1"
		printf 'data_directory = %s/data\nmail_owner = postfix\nsetgid_group = postdrop\n' "$1"
		printf 'inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmaillog_file = %s/maillog\n' "$1"
		cat
	} > "$1/etc/main.cf"
}
