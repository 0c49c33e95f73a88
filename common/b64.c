/*
 * b64.c - base64 decoding; see b64.h.
 */
#include <openssl/evp.h>

#include "b64.h"

/*
 * b64_decode - EVP_DecodeBlock() decodes whole 4-character groups and counts
 * the padding as zero bytes: refuse a length that is not a multiple of 4 or
 * does not fit, and take the padding off the count.
 */
int
b64_decode(const char *s, size_t n, unsigned char *out, size_t outlen)
{
	int	len;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > outlen)
		return -1;
	if ((len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n)) < 0)
		return -1;
	len -= (s[n - 1] == '=') + (s[n - 2] == '=');
	return len;
}
