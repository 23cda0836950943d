#!/bin/sh
echo stac-geoparquet "$@"
