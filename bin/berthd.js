#!/usr/bin/env node
import '../dist/daemon/entry.js';
