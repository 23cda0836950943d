#!/bin/sh
echo rev
