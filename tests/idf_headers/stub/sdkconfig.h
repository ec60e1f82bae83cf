/* Stand-in for the sdkconfig.h an ESP-IDF build generates (tests/idf_headers.rs). The options
 * themselves come as -D flags; this only tells consumer.c that the header was included. */
#pragma once
#define HEAPCAPS_TEST_SDKCONFIG_SEEN 1
