# Reference trajectory fits for tests/test_double_programming_trajectories.py and benchmarks/bench_trajectories.py.
# Usage: Rscript flexmix_reference.R <input_dir> <output_dir> <model> <degree> <k_values> <nrep> <seed> <tolerance> <iter_max>
#   model: lcga_class_variance (FLXMRglm, one residual variance per class), lcga_common_variance (FLXMRglmfix,
#   varFix = TRUE) or random_intercept (FLXMRlmm, random = ~1, common random-intercept and residual variances).
#   Class membership is per patient (`| patient_id`); minprior = 0 so that flexmix never drops a class by itself.
# Input: long.csv (patient_id, years, nprs). Outputs: fits.csv (one row per K), parameters.csv (long format).
suppressPackageStartupMessages(library(flexmix))
args <- commandArgs(trailingOnly = TRUE)
in_dir <- args[1]; out_dir <- args[2]; model_name <- args[3]
degree <- as.integer(args[4]); k_values <- as.integer(strsplit(args[5], ",")[[1]])
nrep <- as.integer(args[6]); seed <- as.integer(args[7])
tolerance <- as.numeric(args[8]); iter_max <- as.integer(args[9])

data <- read.csv(file.path(in_dir, "long.csv"), stringsAsFactors = FALSE)
data$patient_id <- factor(data$patient_id)
terms <- c("years", if (degree >= 2) sprintf("I(years^%d)", 2:degree))
curve <- paste("nprs ~", paste(terms, collapse = " + "))
control <- list(minprior = 0, tolerance = tolerance, iter.max = iter_max, verbose = 0)

fit_one <- function(k) {
  if (model_name == "random_intercept") {
    model <- FLXMRlmm(as.formula(curve), random = ~1, varFix = c(Random = TRUE, Residual = TRUE))
    stepFlexmix(. ~ . | patient_id, data = data, k = k, nrep = nrep, model = model, control = control,
                verbose = FALSE)
  } else {
    model <- if (model_name == "lcga_common_variance") FLXMRglmfix(varFix = TRUE) else FLXMRglm()
    stepFlexmix(as.formula(paste(curve, "| patient_id")), data = data, k = k, nrep = nrep, model = model,
                control = control, verbose = FALSE)
  }
}

set.seed(seed)
fit_rows <- list(); par_rows <- list()
for (k in k_values) {
  seconds <- system.time(fit <- fit_one(k))[["elapsed"]]
  ll <- logLik(fit)
  fit_rows[[length(fit_rows) + 1]] <- data.frame(
    k = k, k_fitted = fit@k, loglik = as.numeric(ll), df = attr(ll, "df"), nobs = attr(ll, "nobs"),
    bic = BIC(fit), aic = AIC(fit), iterations = fit@iter, converged = fit@converged, seconds = seconds,
    nrep = nrep)
  priors <- prior(fit)
  for (j in seq_len(fit@k)) {
    p <- fit@components[[j]][[1]]@parameters
    coef <- as.numeric(p$coef)
    if (model_name == "random_intercept") {
      residual <- as.numeric(p$sigma2$Residual); random <- as.numeric(p$sigma2$Random)
    } else {
      residual <- as.numeric(p$sigma)^2; random <- 0
    }
    par_rows[[length(par_rows) + 1]] <- data.frame(
      k = k, component = j, parameter = c(sprintf("coef_%d", seq_along(coef) - 1), "residual_variance",
                                          "random_intercept_variance", "prior"),
      value = c(coef, residual, random, priors[j]))
  }
}
write.csv(do.call(rbind, fit_rows), file.path(out_dir, "fits.csv"), row.names = FALSE)
write.csv(do.call(rbind, par_rows), file.path(out_dir, "parameters.csv"), row.names = FALSE)
