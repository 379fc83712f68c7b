# Reference product-of-coefficients mediation for tests/test_double_programming_mediation.py and the benchmark.
# Usage: Rscript mediation_reference.R <input_dir> <output_dir>
# Inputs: data.csv (x, m, y and any covariate columns), settings.csv (n_boot, seed, level),
#         optional indices.csv (one resample per row, 0-based patient indices drawn by the Python side).
# Outputs: point.csv (lm fits on the full data), given.csv (paths on the given resamples),
#          boot.csv (boot::boot with R's own generator: percentile and BCa from boot.ci, BC by hand, timings).
suppressPackageStartupMessages(library(boot))
args <- commandArgs(trailingOnly = TRUE)
in_dir <- args[1]
out_dir <- args[2]
data <- read.csv(file.path(in_dir, "data.csv"))
settings <- read.csv(file.path(in_dir, "settings.csv"))
covs <- setdiff(names(data), c("x", "m", "y"))
rhs <- paste(c(covs, "x"), collapse = " + ")
f_mediator <- as.formula(paste("m ~", rhs))
f_outcome <- as.formula(paste("y ~", rhs, "+ m"))
f_total <- as.formula(paste("y ~", rhs))

paths_lm <- function(d) {
  a <- coef(lm(f_mediator, data = d))[["x"]]
  out <- coef(lm(f_outcome, data = d))
  c_total <- coef(lm(f_total, data = d))[["x"]]
  c(a = a, b = out[["m"]], c_prime = out[["x"]], c = c_total, indirect = a * out[["m"]],
    proportion_mediated = a * out[["m"]] / c_total)
}
point <- paths_lm(data)
write.csv(data.frame(path = names(point), estimate = unname(point)), file.path(out_dir, "point.csv"),
          row.names = FALSE)

if (file.exists(file.path(in_dir, "indices.csv"))) {
  idx <- as.matrix(read.csv(file.path(in_dir, "indices.csv"))) + 1L
  given <- t(apply(idx, 1, function(i) paths_lm(data[i, ])))
  write.csv(as.data.frame(given), file.path(out_dir, "given.csv"), row.names = FALSE)
}

# The statistic inside boot() uses lm.fit on prebuilt matrices: same estimator, less overhead per resample.
X_med <- model.matrix(f_mediator, data)
X_out <- model.matrix(f_outcome, data)
indirect_stat <- function(d, i) {
  a <- lm.fit(X_med[i, , drop = FALSE], data$m[i])$coefficients[["x"]]
  b <- lm.fit(X_out[i, , drop = FALSE], data$y[i])$coefficients[["m"]]
  a * b
}
set.seed(settings$seed)
seconds <- system.time(res <- boot(data, indirect_stat, R = settings$n_boot))[["elapsed"]]
ci <- boot.ci(res, conf = settings$level, type = c("perc", "bca"))
alpha <- 1 - settings$level
z0 <- qnorm((sum(res$t < res$t0) + 0.5 * sum(res$t == res$t0)) / length(res$t))
bc <- quantile(res$t, pnorm(2 * z0 + qnorm(c(alpha / 2, 1 - alpha / 2))), type = 7, names = FALSE)
write.csv(data.frame(t0 = res$t0, boot_se = sd(res$t), perc_low = ci$percent[4], perc_high = ci$percent[5],
                     bca_low = ci$bca[4], bca_high = ci$bca[5], bc_low = bc[1], bc_high = bc[2],
                     n_boot = settings$n_boot, boot_seconds = seconds),
          file.path(out_dir, "boot.csv"), row.names = FALSE)
