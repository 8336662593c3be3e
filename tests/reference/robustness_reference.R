#!/usr/bin/env Rscript
# Reference values for mscreview's robustness statistics (issue 12): sequential monitoring
# (rpact), influence diagnostics, trim-and-fill, Egger, meta-regression, leave-one-out and
# cumulative meta-analysis (metafor).
#
# Run from the repository root:  Rscript tests/reference/robustness_reference.R
# Writes tests/reference/robustness_reference.json (committed; the tests need no R).
# Each case records the exact call(s), the input data and the expected values; the tests state
# their tolerance.

suppressPackageStartupMessages({
  library(metafor)
  library(rpact)
  library(jsonlite)
})

cases <- list()
add_case <- function(name, calls, data, expected) {
  cases[[name]] <<- list(calls = calls, data = data, expected = expected)
}

# --- sequential monitoring: Lan-DeMets O'Brien-Fleming boundaries (rpact) -----------------
# (rpact computes the spending as 2 - 2 pnorm(.), which loses relative precision when a look
# spends less than about 1e-8; the first look at t = 0.05 is such a case: rpact returns NA.)
for (rates in list(c(0.2, 0.45, 0.7, 1), c(0.15, 0.3, 0.62), c(0.05, 0.5, 0.9),
                   c(0.33, 0.67, 1), c(0.25, 0.5, 0.75, 0.9, 1))) {
  tag <- paste(round(100 * rates), collapse = "_")
  d <- getDesignGroupSequential(typeOfDesign = "asOF", informationRates = rates,
                                alpha = 0.025, sided = 1)
  add_case(paste0("obf_one_sided_", tag),
    sprintf('getDesignGroupSequential(typeOfDesign="asOF", informationRates=c(%s), alpha=0.025, sided=1)',
            paste(rates, collapse = ", ")),
    list(t = rates, alpha = 0.025, sided = 1),
    list(bounds = d$criticalValues, spent = d$alphaSpent))
  # Two-sided with the total spending alpha(t) = 2 - 2 Phi(z_{1-alpha/2}/sqrt(t)) (Lan & DeMets
  # 1983, as the TSA program): rpact's asOF with sided = 2 spends alpha/2 per side instead, so
  # the spending is given as a user function.
  spend <- pmin(2 * pnorm(-qnorm(1 - 0.05 / 2) / sqrt(rates)), 0.05)
  if (rates[length(rates)] < 1) spend <- c(spend, 0.05)
  full <- if (rates[length(rates)] < 1) c(rates, 1) else rates
  d <- getDesignGroupSequential(typeOfDesign = "asUser", informationRates = full,
                                userAlphaSpending = spend, alpha = 0.05, sided = 2)
  add_case(paste0("obf_two_sided_", tag),
    c('spend <- pmin(2 * pnorm(-qnorm(0.975) / sqrt(t)), 0.05)  # t ending at 1',
      sprintf('getDesignGroupSequential(typeOfDesign="asUser", informationRates=c(%s), userAlphaSpending=spend, alpha=0.05, sided=2)',
              paste(full, collapse = ", "))),
    list(t = rates, alpha = 0.05, sided = 2),
    list(bounds = d$criticalValues[seq_along(rates)], spent = spend[seq_along(rates)]))
}

# --- required information size, continuous: total n of a fixed design (rpact) ---------------
for (p in list(c(2, 5, 0.1), c(0.5, 1, 0.2), c(3.5, 12, 0.1))) {
  s <- getSampleSizeMeans(getDesignGroupSequential(kMax = 1, alpha = 0.025, beta = p[3], sided = 1),
                          normalApproximation = TRUE, alternative = p[1], stDev = p[2],
                          allocationRatioPlanned = 1)
  add_case(sprintf("ris_continuous_%g_%g_%g", p[1], p[2], p[3]),
    sprintf('getSampleSizeMeans(getDesignGroupSequential(kMax=1, alpha=0.025, beta=%g, sided=1), normalApproximation=TRUE, alternative=%g, stDev=%g, allocationRatioPlanned=1)$nFixed  # = two-sided alpha 0.05',
            p[3], p[1], p[2]),
    list(delta = p[1], sd = p[2], alpha = 0.05, beta = p[3]),
    list(ris = s$nFixed))
}

out <- list(
  generated_by = "tests/reference/robustness_reference.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  rpact_version = as.character(packageVersion("rpact")),
  cases = cases
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
      "tests/reference/robustness_reference.json")
