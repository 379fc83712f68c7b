# Reference fits for tests/test_double_programming_mixed_models.py and benchmarks/bench_models.py.
# Usage: Rscript lmm_reference.R <input_dir> <output_dir>
# Inputs: data.csv (long data), models.csv (model_id, formula, wald_pattern, anova_term, repeats).
# Outputs: fixed.csv, varcomp.csv, fit.csv, wald.csv. All fits REML; estimates from lmerTest::lmer (lme4 inside).
suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
})
args <- commandArgs(trailingOnly = TRUE)
in_dir <- args[1]
out_dir <- args[2]
data <- read.csv(file.path(in_dir, "data.csv"), stringsAsFactors = FALSE)
models <- read.csv(file.path(in_dir, "models.csv"), stringsAsFactors = FALSE)
data$patient_id <- factor(data$patient_id)

fixed_rows <- list(); vc_rows <- list(); fit_rows <- list(); wald_rows <- list()
for (i in seq_len(nrow(models))) {
  spec <- models[i, ]
  form <- as.formula(spec$formula)
  repeats <- if (is.null(spec$repeats) || is.na(spec$repeats)) 1L else as.integer(spec$repeats)
  seconds <- numeric(repeats)
  # Timed: the plain lme4 fit (what statsmodels is compared with); lmerTest's extra work for Satterthwaite df
  # is timed once separately.
  for (r in seq_len(repeats)) {
    seconds[r] <- system.time(lme4::lmer(form, data = data, REML = TRUE))[["elapsed"]]
  }
  lmertest_seconds <- system.time(fit <- lmerTest::lmer(form, data = data, REML = TRUE))[["elapsed"]]
  s <- summary(fit)$coefficients
  fixed_rows[[i]] <- data.frame(model_id = spec$model_id, term = rownames(s), estimate = s[, "Estimate"],
                                se = s[, "Std. Error"], df = s[, "df"], t = s[, "t value"], p = s[, "Pr(>|t|)"])
  vc <- as.data.frame(VarCorr(fit))
  name <- ifelse(vc$grp == "Residual", "var(Residual)",
                 ifelse(is.na(vc$var2), paste0("var(", vc$var1, ")"), paste0("cov(", vc$var1, ", ", vc$var2, ")")))
  name <- gsub("\\(\\(Intercept\\)", "(Intercept", name)
  vc_rows[[i]] <- data.frame(model_id = spec$model_id, component = name, value = vc$vcov)
  fit_rows[[i]] <- data.frame(model_id = spec$model_id, loglik = as.numeric(logLik(fit)), reml = isREML(fit),
                              n_obs = nobs(fit), n_patients = ngrps(fit)[["patient_id"]],
                              fit_seconds_median = median(seconds), repeats = repeats,
                              lmertest_seconds = lmertest_seconds,
                              singular = isSingular(fit))
  if (!is.na(spec$wald_pattern) && nzchar(spec$wald_pattern)) {
    beta <- fixef(fit)
    chosen <- grep(spec$wald_pattern, names(beta))
    V <- as.matrix(vcov(fit))[chosen, chosen]
    chi2 <- as.numeric(t(beta[chosen]) %*% solve(V, beta[chosen]))
    a <- anova(fit, type = 3, ddf = "Satterthwaite")
    wald_rows[[i]] <- data.frame(model_id = spec$model_id, chi2 = chi2, df = length(chosen),
                                 lmertest_f_times_numdf = a[spec$anova_term, "F value"] * a[spec$anova_term, "NumDF"],
                                 lmertest_p = a[spec$anova_term, "Pr(>F)"])
  }
}
write.csv(do.call(rbind, fixed_rows), file.path(out_dir, "fixed.csv"), row.names = FALSE)
write.csv(do.call(rbind, vc_rows), file.path(out_dir, "varcomp.csv"), row.names = FALSE)
write.csv(do.call(rbind, fit_rows), file.path(out_dir, "fit.csv"), row.names = FALSE)
if (length(wald_rows)) write.csv(do.call(rbind, wald_rows), file.path(out_dir, "wald.csv"), row.names = FALSE)
