#!/bin/sh
echo otsu "$@"
