"""The Pulumi program that provisions flixstack on AWS (``Pulumi.yaml`` points here)."""
