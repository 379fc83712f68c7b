# Reference fits for tests/test_sensitivity_centres.py and benchmarks/bench_sensitivity_centres.py: patients nested
# in centres, lme4's `<fixed> + (1 | centre) + (years | patient_id)`, REML.
# Usage: Rscript lmm_centre_reference.R <input_dir> <output_dir>
# Inputs: data.csv (long data with centre, patient_id, years, ...), models.csv (model_id, fixed, repeats).
# Outputs: fixed.csv (model_id, term, estimate, se), varcomp.csv (model_id, component, value), fit.csv (model_id,
# loglik, n_obs, n_patients, n_centres, singular, fit_seconds_median).
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(file.path(args[1], "data.csv"), stringsAsFactors = FALSE)
models <- read.csv(file.path(args[1], "models.csv"), stringsAsFactors = FALSE)
data$patient_id <- factor(data$patient_id)
data$centre <- factor(data$centre)

fixed_rows <- list(); vc_rows <- list(); fit_rows <- list()
for (i in seq_len(nrow(models))) {
  spec <- models[i, ]
  form <- as.formula(paste(spec$fixed, "+ (1 | centre) + (years | patient_id)"))
  seconds <- numeric(spec$repeats)
  for (r in seq_len(spec$repeats)) seconds[r] <- system.time(fit <- lmer(form, data = data, REML = TRUE))[["elapsed"]]
  s <- summary(fit)$coefficients
  fixed_rows[[i]] <- data.frame(model_id = spec$model_id, term = rownames(s), estimate = s[, "Estimate"],
                                se = s[, "Std. Error"])
  vc <- as.data.frame(VarCorr(fit))
  name <- ifelse(vc$grp == "Residual", "var(Residual)",
                 ifelse(vc$grp == "centre", "var(centre)",
                        ifelse(is.na(vc$var2), paste0("var(", vc$var1, ")"), paste0("cov(", vc$var1, ", ", vc$var2, ")"))))
  name <- gsub("\\(\\(Intercept\\)", "(Intercept", name)
  vc_rows[[i]] <- data.frame(model_id = spec$model_id, component = name, value = vc$vcov)
  fit_rows[[i]] <- data.frame(model_id = spec$model_id, loglik = as.numeric(logLik(fit)), n_obs = nobs(fit),
                              n_patients = ngrps(fit)[["patient_id"]], n_centres = ngrps(fit)[["centre"]],
                              singular = isSingular(fit), fit_seconds_median = median(seconds))
}
write.csv(do.call(rbind, fixed_rows), file.path(args[2], "fixed.csv"), row.names = FALSE)
write.csv(do.call(rbind, vc_rows), file.path(args[2], "varcomp.csv"), row.names = FALSE)
write.csv(do.call(rbind, fit_rows), file.path(args[2], "fit.csv"), row.names = FALSE)
