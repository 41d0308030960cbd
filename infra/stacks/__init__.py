"""Stacks: stateful resources (retained) apart from stateless code that redeploys freely."""
