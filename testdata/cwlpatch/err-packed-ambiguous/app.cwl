{
    "cwlVersion": "v1.2",
    "$graph": [
        {
            "class": "Workflow",
            "id": "#main",
            "inputs": [],
            "outputs": [],
            "steps": [
                {"id": "#main/a", "run": "#tool.cwl", "in": [], "out": []},
                {"id": "#main/b", "run": "#tool.cwl_2", "in": [], "out": []}
            ]
        },
        {
            "class": "CommandLineTool",
            "id": "#tool.cwl",
            "baseCommand": "cat",
            "inputs": [],
            "outputs": [],
            "requirements": [{"class": "DockerRequirement", "dockerPull": "docker.io/library/alpine@sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"}]
        },
        {
            "class": "CommandLineTool",
            "id": "#tool.cwl_2",
            "baseCommand": "echo",
            "inputs": [],
            "outputs": [],
            "requirements": [{"class": "DockerRequirement", "dockerPull": "docker.io/library/busybox:1"}]
        }
    ]
}
