{
    "$graph": [
        {
            "class": "Workflow",
            "id": "#main",
            "inputs": [
                {
                    "id": "#main\/item",
                    "type": "string"
                }
            ],
            "outputs": [],
            "steps": [
                {
                    "id": "#main\/crop",
                    "run": "#crop",
                    "in": [
                        {
                            "id": "#main\/crop\/item",
                            "source": "#main\/item"
                        }
                    ],
                    "out": []
                },
                {
                    "id": "#main\/norm_diff",
                    "run": "#norm_diff",
                    "in": [
                        {
                            "id": "#main\/norm_diff\/item",
                            "source": "#main\/item"
                        }
                    ],
                    "out": []
                },
                {
                    "id": "#main\/otsu",
                    "run": "#otsu",
                    "in": [
                        {
                            "id": "#main\/otsu\/item",
                            "source": "#main\/item"
                        }
                    ],
                    "out": []
                },
                {
                    "id": "#main\/rio_stack",
                    "run": "#rio_stack",
                    "in": [
                        {
                            "id": "#main\/rio_stack\/item",
                            "source": "#main\/item"
                        }
                    ],
                    "out": []
                },
                {
                    "id": "#main\/rio_color",
                    "run": "#rio_color",
                    "in": [
                        {
                            "id": "#main\/rio_color\/item",
                            "source": "#main\/item"
                        }
                    ],
                    "out": []
                },
                {
                    "id": "#main\/rio_info",
                    "run": "#rio_info",
                    "in": [
                        {
                            "id": "#main\/rio_info\/item",
                            "source": "#main\/item"
                        }
                    ],
                    "out": []
                }
            ]
        },
        {
            "class": "CommandLineTool",
            "id": "#crop",
            "hints": [
                {
                    "class": "DockerRequirement",
                    "dockerPull": "ghcr.io\/eoap\/water-bodies\/crop:1.0.0"
                }
            ],
            "baseCommand": [
                "echo",
                "crop"
            ],
            "inputs": [
                {
                    "id": "#crop\/item",
                    "type": "string",
                    "inputBinding": {
                        "position": 1
                    }
                }
            ],
            "outputs": []
        },
        {
            "class": "CommandLineTool",
            "id": "#norm_diff",
            "requirements": [
                {
                    "$import": "norm-diff-docker.yml"
                }
            ],
            "baseCommand": [
                "echo",
                "norm_diff"
            ],
            "inputs": [
                {
                    "id": "#norm_diff\/item",
                    "type": "string",
                    "inputBinding": {
                        "position": 1
                    }
                }
            ],
            "outputs": []
        },
        {
            "class": "CommandLineTool",
            "id": "#otsu",
            "requirements": [
                {
                    "class": "DockerRequirement",
                    "dockerPull": "ghcr.io\/eoap\/water-bodies\/otsu:1.0.0"
                }
            ],
            "baseCommand": [
                "echo",
                "otsu"
            ],
            "inputs": [
                {
                    "id": "#otsu\/item",
                    "type": "string",
                    "inputBinding": {
                        "position": 1
                    }
                }
            ],
            "outputs": []
        },
        {
            "class": "CommandLineTool",
            "id": "#rio_stack",
            "hints": [
                {
                    "class": "DockerRequirement",
                    "dockerPull": "ghcr.io\/eoap\/water-bodies\/rio:1.0.0"
                }
            ],
            "baseCommand": [
                "echo",
                "rio_stack"
            ],
            "inputs": [
                {
                    "id": "#rio_stack\/item",
                    "type": "string",
                    "inputBinding": {
                        "position": 1
                    }
                }
            ],
            "outputs": []
        },
        {
            "class": "CommandLineTool",
            "id": "#rio_color",
            "hints": [
                {
                    "class": "DockerRequirement",
                    "dockerPull": "ghcr.io\/eoap\/water-bodies\/rio:1.0.0"
                }
            ],
            "baseCommand": [
                "echo",
                "rio_color"
            ],
            "inputs": [
                {
                    "id": "#rio_color\/item",
                    "type": "string",
                    "inputBinding": {
                        "position": 1
                    }
                }
            ],
            "outputs": []
        },
        {
            "class": "CommandLineTool",
            "id": "#rio_info",
            "baseCommand": [
                "echo",
                "rio_info"
            ],
            "inputs": [
                {
                    "id": "#rio_info\/item",
                    "type": "string",
                    "inputBinding": {
                        "position": 1
                    }
                }
            ],
            "outputs": []
        }
    ],
    "cwlVersion": "v1.2"
}
