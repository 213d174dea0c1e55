from .attribute_metric import AttributeMetric

__all__ = ['AttributeMetric']
