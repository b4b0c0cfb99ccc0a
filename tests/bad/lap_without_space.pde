# lap and dn are spatial: a problem with only a time coordinate has no space to take them in.
time t in [0, 1]
field u
lap(u) = 1 on interior
# expect: E0222 1:1
