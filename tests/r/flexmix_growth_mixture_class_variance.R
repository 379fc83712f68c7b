# Reference fit for tests/test_sensitivity_trajectories.py: the growth mixture model with a random intercept whose
# variance is common to all classes and a residual variance per class (FLXMRlmm, varFix = c(Random = TRUE,
# Residual = FALSE)). Class membership is per patient; minprior = 0 so that flexmix never drops a class by itself.
# Usage: Rscript flexmix_growth_mixture_class_variance.R <input_dir> <output_dir> <degree> <k> <nrep> <seed>
# Input: long.csv (patient_id, years, nprs). Outputs: fit.csv (one row), parameters.csv (one row per class).
suppressPackageStartupMessages(library(flexmix))
args <- commandArgs(trailingOnly = TRUE)
in_dir <- args[1]; out_dir <- args[2]
degree <- as.integer(args[3]); k <- as.integer(args[4]); nrep <- as.integer(args[5]); seed <- as.integer(args[6])

data <- read.csv(file.path(in_dir, "long.csv"), stringsAsFactors = FALSE)
data$patient_id <- factor(data$patient_id)
terms <- c("years", if (degree >= 2) sprintf("I(years^%d)", 2:degree))
curve <- as.formula(paste("nprs ~", paste(terms, collapse = " + ")))
model <- FLXMRlmm(curve, random = ~1, varFix = c(Random = TRUE, Residual = FALSE))
control <- list(minprior = 0, tolerance = 1e-10, iter.max = 1000, verbose = 0)
set.seed(seed)
seconds <- system.time(
  fit <- stepFlexmix(. ~ . | patient_id, data = data, k = k, nrep = nrep, model = model, control = control,
                     verbose = FALSE))[["elapsed"]]
ll <- logLik(fit)
write.csv(data.frame(k = k, k_fitted = fit@k, loglik = as.numeric(ll), df = attr(ll, "df"), nobs = attr(ll, "nobs"),
                     iterations = fit@iter, converged = fit@converged, seconds = seconds),
          file.path(out_dir, "fit.csv"), row.names = FALSE)
rows <- lapply(seq_len(fit@k), function(j) {
  p <- fit@components[[j]][[1]]@parameters
  coef <- as.numeric(p$coef)
  data.frame(component = j, t(setNames(coef, sprintf("coef_%d", seq_along(coef) - 1))),
             residual_variance = as.numeric(p$sigma2$Residual), random_intercept_variance = as.numeric(p$sigma2$Random),
             prior = prior(fit)[j])
})
write.csv(do.call(rbind, rows), file.path(out_dir, "parameters.csv"), row.names = FALSE)
