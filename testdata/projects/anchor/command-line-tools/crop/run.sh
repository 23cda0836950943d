#!/bin/sh
echo crop "$@"
