"""outcome"""
