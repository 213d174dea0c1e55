# Approach 1 read literally from its heading: multi-scale taps, no FPN and
# no attention (fused feature: 768).
_base_ = './effnetv2-m_approach1.py'
model = dict(neck=[dict(type='GAPConcatFusion')])
