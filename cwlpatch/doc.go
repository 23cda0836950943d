// Package cwlpatch pins the DockerRequirement of CWL CommandLineTools to the
// images a build just pushed. It finds processes with yaml.v3's node API
// (which knows positions) and writes by splicing bytes into the original
// file, so comments, quoting, blank lines, key order, JSON-ness and line
// endings stay exactly as the author left them: only the dockerPull scalar
// changes, or the few lines that add a DockerRequirement appear.
package cwlpatch
