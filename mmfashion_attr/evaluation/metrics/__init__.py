from .attribute_metric import AttributeMetric

__all__ = ['AttributeMetric']
from .attribute_metric_suite import AttributeMetricSuite  # noqa: E402

__all__ += ['AttributeMetricSuite']
