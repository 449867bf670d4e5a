"""accessor"""
