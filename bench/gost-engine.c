#define OPENSSL_SUPPRESS_DEPRECATED
/* OpenSSL's gost engine signing a digest in a loop: the reference for bench/gost.sh.
 * Usage: gost-engine KEY.pem DIGEST_BYTES ITERATIONS → prints microseconds per signature. */
#include <openssl/engine.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  ENGINE *e = ENGINE_by_id("gost");
  if (!e || !ENGINE_init(e) || !ENGINE_set_default(e, ENGINE_METHOD_ALL)) {
    fprintf(stderr, "no gost engine\n");
    return 1;
  }
  FILE *f = fopen(argv[1], "r");
  EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
  if (!key) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
  size_t n = (size_t)atoi(argv[2]);
  long iterations = atol(argv[3]);
  unsigned char digest[64], sig[128];
  for (size_t i = 0; i < n; i++) digest[i] = (unsigned char)(0x42 + i);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, e);
  if (!ctx || EVP_PKEY_sign_init(ctx) <= 0) { fprintf(stderr, "sign_init\n"); return 1; }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < iterations; i++) {
    size_t len = sizeof sig;
    if (EVP_PKEY_sign(ctx, sig, &len, digest, n) <= 0) { fprintf(stderr, "sign\n"); return 1; }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / iterations;
  printf("%.2f\n", us);
  return 0;
}
