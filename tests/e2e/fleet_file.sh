#!/bin/bash
# fleet_file.sh - fleet_rgw.sh on a file:// store shared by the three gateways (a
# directory: the same heartbeats, ledger and exclusive claims, no Ceph to start).
FLEET_STORE=file
. "$(dirname "$0")/fleet_rgw.sh"
