/* CRC-32 (ISO 3309, the polynomial 0xEDB88320 reflected), the checksum a zip
 * archive keeps of each file it holds: keras 3's .keras files are zips
 * (R/keras3.R writes them). */
#include <stdint.h>
#include "selu.h"

static uint32_t crc_table[256];
static int crc_table_ready = 0;

static void make_crc_table(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[n] = c;
  }
  crc_table_ready = 1;
}

/* The CRC-32 of a raw vector, as a double (it may pass INT_MAX). */
SEXP selu_crc32(SEXP bytes) {
  if (TYPEOF(bytes) != RAWSXP) Rf_error("internal error: selu_crc32() takes a raw vector");
  if (!crc_table_ready) make_crc_table();
  const Rbyte *restrict p = RAW(bytes);
  R_xlen_t n = XLENGTH(bytes);
  uint32_t c = 0xFFFFFFFFu;
  for (R_xlen_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return Rf_ScalarReal((double) (c ^ 0xFFFFFFFFu));
}
