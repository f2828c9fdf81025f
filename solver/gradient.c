/* Placeholder while the gradient methods are written (issue 3): fails clearly. */
#include "method.h"
#include "check.h"

R(nn_method) R(nn_gradient_create)(const nn_config *cfg, R(nn_model) *net, const R(nn_shard) *train)
{
  (void)net; (void)train;
  nn_fail(__FILE__, __LINE__, "--method %s is not available in this build", cfg->method);
}
