"""The feedback loop: reference profiles, drift, shadow scoring and champion vs challenger."""
