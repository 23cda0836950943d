#!/bin/sh
echo upper
