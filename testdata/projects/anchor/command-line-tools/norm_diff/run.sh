#!/bin/sh
echo norm_diff "$@"
