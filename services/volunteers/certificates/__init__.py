"""Service record certificates (志愿服务记录证明): JSON, PDF, verifiable by number."""
