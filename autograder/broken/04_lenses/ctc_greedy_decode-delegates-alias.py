# Delegates: binds the name to the course's implementation (an alias).
ctc_greedy_decode = lenses.ctc_greedy_decode
