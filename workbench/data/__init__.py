"""Datasets: built-in sets and user data, turned into torch datasets a run can train on."""
