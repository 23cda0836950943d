cwlVersion: v1.2
$graph:
- class: Workflow
  id: main
  inputs: []
  outputs: []
  steps:
    s: {run: '#alpha', in: [], out: []}
- class: CommandLineTool
  id: alpha
  hints: {DockerRequirement: {dockerPull: localhost:5000/pkg/alpha:old}}
  inputs: []
  outputs: []
  baseCommand: echo
- class: ExpressionTool
  id: expr
  requirements: {InlineJavascriptRequirement: {}}
  inputs: []
  outputs: []
  expression: "${return {};}"
