#!/bin/sh
echo stac "$@"
