#!/bin/sh
# Stand-in for the seaweedfs image's /entrypoint.sh at 3.97: `server` runs weed's all-in-one server with
# the image's default data directory and volume settings before the given flags.
case "$1" in
  'server')
    ARGS="-dir=/data -volume.max=0 -master.volumePreallocate -master.volumeSizeLimitMB=1024"
    shift
    exec /usr/bin/weed -logtostderr=true server $ARGS "$@"
    ;;
  *)
    exec /usr/bin/weed "$@"
    ;;
esac
