// The one place drivers/dpdk includes DPDK's headers from.
//
// DPDK 22.11's headers are C first: under g++ -std=c++20 -Wpedantic they use
// zero-length and flexible array members, compound literals and `volatile ++`.
// meson hands them to the compiler as system headers (include_type: 'system'),
// which silences those warnings for DPDK's code only; our own code keeps every
// warning. Nothing in engine/ may include this file.
#pragma once

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_epoll.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_telemetry.h>
#include <rte_version.h>
