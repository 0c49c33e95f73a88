/*
 * b64.h - base64 decoding (RFC 4648 4) with the length OpenSSL's block
 * decoder leaves to its caller.  Encoding is EVP_EncodeBlock() itself.
 * Used for S3 metadata (store.c) and DKIM/ARC key and signature tags (dkim_key.c).
 */
#ifndef MXS_B64_H
#define MXS_B64_H
#include <stddef.h>

/* b64_decode - n chars of s (no whitespace, padded) into out; bytes written, or -1 */
int	b64_decode(const char *s, size_t n, unsigned char *out, size_t outlen);

#endif
