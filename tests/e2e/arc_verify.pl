#!/usr/bin/perl
# arc_verify.pl - Mail::DKIM::ARC::Verifier (libmail-dkim-perl) on one message, keys from
# the test's DNS server on 127.0.0.1:PORT.
#   arc_verify.pl PORT FILE    prints "<result> <detail>"; exit 0 if the result is pass
use strict;
use warnings;
use Mail::DKIM::ARC::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Resolver;

my ($port, $file) = @ARGV;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ['127.0.0.1'],
    port => $port, recurse => 0, udp_timeout => 5, tcp_timeout => 5));
my $v = Mail::DKIM::ARC::Verifier->new();
open(my $fh, '<', $file) or die "$file: $!";
binmode $fh;
while (<$fh>) {
	s/\r?\n\z/\r\n/;
	$v->PRINT($_);
}
$v->CLOSE;
print $v->result, ' ', ($v->result_detail // ''), "\n";
exit($v->result eq 'pass' ? 0 : 1);
