// Wall-clock stamps for records (manifest, cache entries, job states).
#pragma once

#include <chrono>
#include <string>

namespace mien::host {

std::string now_iso();       // UTC, "2024-05-01T12:00:00Z"
std::string now_compact();   // local time, "20240501-140000" (run folder names)
double unix_seconds();       // seconds since the epoch, with sub-second precision
double seconds_since(std::chrono::steady_clock::time_point t0);

}  // namespace mien::host
