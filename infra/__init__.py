"""Polycast on AWS: the CDK app (``stacks/``; one construct per concern in ``constructs/``)."""
