kernelsweep_test(model_test model/deadline_test.cpp model/status_test.cpp)
